"""Developer tooling behind the Makefile: run the stack, train the model."""
