"""`python -m planet_profiles._cli`: the same as the `planet-profiles` console script."""

from planet_profiles._cli import main

main()
