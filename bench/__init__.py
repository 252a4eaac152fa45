"""podpy benchmarks: `python -m bench [--quick] [names...]` (see bench/README.md). Not part of the test run."""
