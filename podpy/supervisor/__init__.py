"""The per-container supervisor (conmon's role): stdio to logs or a pty, attach socket, exit status.

It never imports the engine: the engine hands it a runtime object and `Hooks` (closures that
write the container record and undo the setup).
"""
