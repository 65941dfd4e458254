"""SQL of pairing codes (migration m010). Callers pass hashes, never a code or a secret.

Shares the service's connection, so its writes join `Repository.transaction()`. The service and
`tablepay sync add-kiosk --code` (another process) meet in this table: every step is one guarded
UPDATE, so two of them racing can never both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .repository import Repository


@dataclass(frozen=True)
class CodeRow:
    expires_at: float
    kiosk_name: str | None
    kiosk_id: str | None  # set when an operator approved the code
    scopes: str | None
    collected: bool


class PairingRepository:
    def __init__(self, repo: Repository) -> None:
        self.repo, self.conn = repo, repo.conn

    def purge_expired(self, before: float) -> None:
        """Forget codes that expired before `before`, collected or not, so the table stays small."""
        self.conn.execute("DELETE FROM pairing_codes WHERE expires_at <= ?", (before,))

    def live_codes(self, now: float) -> int:
        return int(self.conn.execute("SELECT count(*) FROM pairing_codes WHERE expires_at > ?", (now,)).fetchone()[0])

    def add(self, code_hash: str, poll_secret_hash: str, kiosk_name: str | None, now: float, expires_at: float) -> bool:
        """A new code; False when one with this hash exists (a collision: draw another)."""
        cursor = self.conn.execute(
            "INSERT INTO pairing_codes (code_hash, poll_secret_hash, kiosk_name, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(code_hash) DO NOTHING",
            (code_hash, poll_secret_hash, kiosk_name, now, expires_at),
        )
        return cursor.rowcount == 1

    def find(self, code_hash: str) -> CodeRow | None:
        row = self.conn.execute(
            "SELECT expires_at, kiosk_name, kiosk_id, scopes, collected_at FROM pairing_codes WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        return CodeRow(row[0], row[1], row[2], row[3], row[4] is not None) if row else None

    def find_for_poll(self, code_hash: str, poll_secret_hash: str, now: float) -> CodeRow | None:
        """The live, not yet collected code, only with its poll secret."""
        row = self.conn.execute(
            "SELECT expires_at, kiosk_name, kiosk_id, scopes FROM pairing_codes WHERE code_hash = ? "
            "AND poll_secret_hash = ? AND expires_at > ? AND collected_at IS NULL",
            (code_hash, poll_secret_hash, now),
        ).fetchone()
        return CodeRow(row[0], row[1], row[2], row[3], False) if row else None

    def approve(self, code_hash: str, kiosk_id: str, scopes: str, now: float) -> bool:
        """Attach a kiosk id to a live code nobody approved yet; False when it is not such a code."""
        cursor = self.conn.execute(
            "UPDATE pairing_codes SET kiosk_id = ?, scopes = ?, approved_at = ? "
            "WHERE code_hash = ? AND kiosk_id IS NULL AND expires_at > ?",
            (kiosk_id, scopes, now, code_hash, now),
        )
        return cursor.rowcount == 1

    def collect(self, code_hash: str, poll_secret_hash: str, token_hash: str, now: float) -> str | None:
        """Mark an approved code collected and give its kiosk the new token, in one transaction.

        Returns the kiosk id, or None when the code is not live, approved and uncollected (a second
        poll, even with the right secret, gets nothing: the token is handed out once).
        """
        with self.repo.transaction():
            # fetchall, not fetchone: the UPDATE must run to its end before COMMIT.
            rows = self.conn.execute(
                "UPDATE pairing_codes SET collected_at = ? WHERE code_hash = ? AND poll_secret_hash = ? "
                "AND expires_at > ? AND kiosk_id IS NOT NULL AND collected_at IS NULL RETURNING kiosk_id, scopes",
                (now, code_hash, poll_secret_hash, now),
            ).fetchall()
            if not rows:
                return None
            kiosk_id, scopes = rows[0]
            self.repo.put_kiosk(kiosk_id, token_hash, scopes)
        return str(kiosk_id)
