"""flashsim's drivers in time, and the `flashsim` command line."""
