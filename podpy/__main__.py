from podpy.cli.entry import main

main()
