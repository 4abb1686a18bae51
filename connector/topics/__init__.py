"""Why customers contact: recurring topics found in the tickets' own words (the optional `topics` extra).

`text.py` keeps the words that carry a subject (Dutch and English), `discover.py` finds the topics
(TF-IDF and NMF, scikit-learn) and names them.
"""
