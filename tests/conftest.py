import os

# Before anything imports Qt or keyring: headless and no system keychain.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
os.environ.setdefault("LANG", "C.UTF-8")
