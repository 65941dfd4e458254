"""The restaurant POS adapter: R-Keeper 7 XML interface client, its answers parsed safely, its settings."""
