"""Payment provider adapters. Amounts are converted only here."""
