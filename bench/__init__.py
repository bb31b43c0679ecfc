"""`flashsim bench`: every figure against a baseline measured in the same run (`core.main`)."""
