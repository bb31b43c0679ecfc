"""The size of the fuzz tests (`@pytest.mark.fuzz`): small in the default run, scaled up for
a long campaign."""

import os


def fuzz_examples(count: int) -> int:
    """Examples of a fuzz test: `count` in the default run, times FLASHSIM_FUZZ_SCALE for a
    long campaign (`FLASHSIM_FUZZ_SCALE=50 python -m pytest -m fuzz`)."""
    return count * int(os.environ.get("FLASHSIM_FUZZ_SCALE", "1"))
