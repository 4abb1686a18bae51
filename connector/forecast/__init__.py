"""Looking ahead: how many contacts the coming weeks bring, and how many agents they need (`erlang`)."""
