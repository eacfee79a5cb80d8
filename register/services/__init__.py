"""The domain's verbs: plain functions that enforce the rules, change models and flush."""
