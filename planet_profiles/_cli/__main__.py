"""`python -m planet_profiles._cli`: the same as the `planet-profiles` console script."""

from . import main

main()
