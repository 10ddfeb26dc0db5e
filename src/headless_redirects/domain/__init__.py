"""Pure logic: no I/O, no framework. Everything here is a function of its arguments."""
