"""The inside of a Python rule worker: how it confines itself, loads uploaded sources and runs rules."""
