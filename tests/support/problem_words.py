"""The tests' own words for BeatBook's problem groups (not BeatBook's table), so a wrong
label in the library fails the tests that print them."""

PROBLEM_WORDS = {
    "violence-weapons": "violence and weapons offences",
    "acquisitive": "theft, burglary and robbery",
    "drugs": "drug offences",
    "asb": "anti-social behaviour",
    "criminal-damage": "criminal damage",
    "public-order": "public order offences",
    "other": "other crime",
}
