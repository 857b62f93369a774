"""Developer scripts: environment setup, starting the servers, the terminal chat."""
