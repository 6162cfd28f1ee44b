"""govportal: the software of a national government portal."""
