"""The `flashsim` subcommands, one module each; `flashsim.main` builds the parser from them."""
