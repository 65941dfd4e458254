"""Typed settings from the environment, an optional TOML file and keyring.

Precedence: environment variables, then the TOML file named by
TABLEPAY_CONFIG (keys are the lower-case setting names), then keyring
(service "tablepay", user = the variable name) for the secrets. A missing or
wrong setting stops the service at start with a message naming it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .provider_keys import (
    LIVE_KEY_PREFIXES,
    MOLLIE_API,
    MOLLIE_KEY,
    is_stripe_itself,
    live_key_misdirected,
    mollie_live_key_misdirected,
)
from .settings_partners import PartnerSettings

KEYRING_SERVICE = "tablepay"
SECRET_NAMES = (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "MOLLIE_API_KEY",
    "RKEEPER_USER",
    "RKEEPER_PASSWORD",
    "TABLEPAY_DATABASE_URL",  # it may carry the database password
)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tablepay"


def _env(name: str) -> Any:
    """A setting that may be unset (None): whether it is needed depends on the others (_provider_complete)."""
    return Field(default=None, validate_default=True, validation_alias=AliasChoices(name, name.lower()))


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names it and says how to fix it."""


class KeyringSource(PydanticBaseSettingsSource):
    """Secrets stored with `keyring set tablepay STRIPE_SECRET_KEY`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        try:
            import keyring
            import keyring.errors
        except ImportError:  # pragma: no cover - keyring is a dependency
            return {}
        found: dict[str, Any] = {}
        for name in SECRET_NAMES:
            try:
                value = keyring.get_password(KEYRING_SERVICE, name)
            except Exception:  # noqa: BLE001 - no backend on a headless box is normal
                return found
            if value:
                found[name] = value
        return found


class Settings(PartnerSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    provider: Literal["stripe", "mollie"] = Field(
        default="stripe", validation_alias=AliasChoices("TABLEPAY_PROVIDER", "provider")
    )
    # "production": test keys are refused at start (a test key takes no real money).
    deployment: Literal["test", "production"] = Field(
        default="test", validation_alias=AliasChoices("TABLEPAY_DEPLOYMENT", "deployment")
    )
    # Required when TABLEPAY_PROVIDER is stripe (the default); see _provider_complete.
    stripe_secret_key: SecretStr | None = _env("STRIPE_SECRET_KEY")
    # Several secrets, comma-separated, are all accepted: that is how a
    # webhook secret is rotated without losing events.
    stripe_webhook_secret: SecretStr | None = _env("STRIPE_WEBHOOK_SECRET")
    mollie_api_key: SecretStr | None = Field(
        default=None, validate_default=True, validation_alias=AliasChoices("MOLLIE_API_KEY", "mollie_api_key")
    )
    mollie_api_base: str | None = Field(
        default=None, validation_alias=AliasChoices("MOLLIE_API_BASE", "mollie_api_base")
    )
    mollie_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, validation_alias=AliasChoices("MOLLIE_TIMEOUT", "mollie_timeout_seconds")
    )
    mollie_max_retries: int = Field(
        default=2, ge=0, le=5, validation_alias=AliasChoices("MOLLIE_MAX_RETRIES", "mollie_max_retries")
    )
    # Split payments are enabled on a Mollie account by Mollie's partner team; without them (or without an
    # organisation) a Mollie deployment offers no donation rather than keeping the money.
    mollie_split_payments: bool = Field(
        default=False, validation_alias=AliasChoices("MOLLIE_SPLIT_PAYMENTS", "mollie_split_payments")
    )
    donation_organization: str | None = Field(
        default=None, validation_alias=AliasChoices("TABLEPAY_DONATION_ORGANIZATION", "donation_organization")
    )
    stripe_api_base: str | None = Field(
        default=None, validation_alias=AliasChoices("STRIPE_API_BASE", "stripe_api_base")
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, validation_alias=AliasChoices("TABLEPAY_DATA_DIR", "data_dir")
    )
    public_url: str | None = Field(default=None, validation_alias=AliasChoices("TABLEPAY_PUBLIC_URL", "public_url"))
    # Unset: SQLite under data_dir (one instance). Set: PostgreSQL, shared by several instances (chain mode).
    # A secret: the URL may carry the password (and it may come from keyring).
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TABLEPAY_DATABASE_URL", "database_url")
    )
    # How long a claimed outbox row stays an instance's: after that another instance takes it over.
    outbox_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("TABLEPAY_OUTBOX_LEASE_SECONDS", "outbox_lease_seconds"),
    )
    donation_account: str | None = Field(
        default=None, validation_alias=AliasChoices("TABLEPAY_DONATION_ACCOUNT", "donation_account")
    )
    donation_partner: str = Field(
        default="Partner charity", validation_alias=AliasChoices("TABLEPAY_DONATION_PARTNER", "donation_partner")
    )
    max_total: int = Field(default=1_000_000, gt=0, validation_alias=AliasChoices("TABLEPAY_MAX_TOTAL", "max_total"))
    share_hold_seconds: float = Field(
        default=300,
        ge=1,
        le=1800,
        validation_alias=AliasChoices("TABLEPAY_SHARE_HOLD_SECONDS", "share_hold_seconds"),
        description="How long a split bill's share being paid keeps its part for that guest",
    )
    # on_send: the POS gets an order's dishes when they are sent or a checkout opens; after_payment
    # (pay-first): only once the order is paid. An order's own `kitchen` wins (docs/pos.md).
    kitchen: Literal["on_send", "after_payment"] = Field(
        default="on_send", validation_alias=AliasChoices("TABLEPAY_KITCHEN", "kitchen")
    )
    checkout_ttl_seconds: int = Field(
        default=1800, ge=1800, le=86400, validation_alias=AliasChoices("TABLEPAY_CHECKOUT_TTL", "checkout_ttl_seconds")
    )
    reconcile_interval_seconds: float = Field(
        default=15.0, gt=0, validation_alias=AliasChoices("TABLEPAY_RECONCILE_INTERVAL", "reconcile_interval_seconds")
    )
    reconcile_after_seconds: float = Field(
        default=45.0, ge=0, validation_alias=AliasChoices("TABLEPAY_RECONCILE_AFTER", "reconcile_after_seconds")
    )
    stripe_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, validation_alias=AliasChoices("STRIPE_TIMEOUT", "stripe_timeout_seconds")
    )
    stripe_max_retries: int = Field(
        default=2, ge=0, le=5, validation_alias=AliasChoices("STRIPE_MAX_RETRIES", "stripe_max_retries")
    )
    outbox_max_attempts: int = Field(
        default=10, ge=1, le=100, validation_alias=AliasChoices("TABLEPAY_OUTBOX_MAX_ATTEMPTS", "outbox_max_attempts")
    )
    webhook_requests_days: float = Field(
        default=30,
        gt=0,
        le=3650,
        validation_alias=AliasChoices("TABLEPAY_WEBHOOK_REQUESTS_DAYS", "webhook_requests_days"),
    )
    outbox_backoff_base_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        validation_alias=AliasChoices("TABLEPAY_OUTBOX_BACKOFF_BASE", "outbox_backoff_base_seconds"),
    )
    outbox_backoff_cap_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("TABLEPAY_OUTBOX_BACKOFF_CAP", "outbox_backoff_cap_seconds"),
    )
    # What unauthenticated traffic may cost (docs/configuration.md, "Limits").
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=64 * 1024,
        le=64 * 1024 * 1024,
        validation_alias=AliasChoices("TABLEPAY_MAX_BODY_BYTES", "max_body_bytes"),
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, validation_alias=AliasChoices("TABLEPAY_HEADER_TIMEOUT", "header_timeout_seconds")
    )
    keep_alive_timeout_seconds: int = Field(
        default=5,
        ge=1,
        le=300,
        validation_alias=AliasChoices("TABLEPAY_KEEP_ALIVE_TIMEOUT", "keep_alive_timeout_seconds"),
    )
    # The restaurant's R-Keeper cash server (docs/pos.md). Unset URL = no POS sync.
    rkeeper_url: str | None = Field(default=None, validation_alias=AliasChoices("RKEEPER_URL", "rkeeper_url"))
    rkeeper_user: str | None = Field(default=None, validation_alias=AliasChoices("RKEEPER_USER", "rkeeper_user"))
    rkeeper_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_PASSWORD", "rkeeper_password")
    )
    rkeeper_ca_bundle: Path | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_CA_BUNDLE", "rkeeper_ca_bundle")
    )
    rkeeper_verify_tls: bool = Field(
        default=True, validation_alias=AliasChoices("RKEEPER_VERIFY_TLS", "rkeeper_verify_tls")
    )
    rkeeper_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, validation_alias=AliasChoices("RKEEPER_TIMEOUT", "rkeeper_timeout_seconds")
    )
    rkeeper_station_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_STATION_CODE", "rkeeper_station_code")
    )
    rkeeper_cashier_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_CASHIER_CODE", "rkeeper_cashier_code")
    )
    rkeeper_waiter_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_WAITER_CODE", "rkeeper_waiter_code")
    )
    rkeeper_order_type_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_ORDER_TYPE_CODE", "rkeeper_order_type_code")
    )
    rkeeper_tables: str = Field(default="", validation_alias=AliasChoices("RKEEPER_TABLES", "rkeeper_tables"))
    rkeeper_currency_id: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_CURRENCY_ID", "rkeeper_currency_id")
    )
    rkeeper_tip_mode: Literal["tip_charge", "dish"] = Field(
        default="tip_charge", validation_alias=AliasChoices("RKEEPER_TIP_MODE", "rkeeper_tip_mode")
    )
    rkeeper_tip_charge_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_TIP_CHARGE_CODE", "rkeeper_tip_charge_code")
    )
    rkeeper_tip_dish_code: str | None = Field(
        default=None, validation_alias=AliasChoices("RKEEPER_TIP_DISH_CODE", "rkeeper_tip_dish_code")
    )
    rkeeper_payment_includes_tip: bool = Field(
        default=False, validation_alias=AliasChoices("RKEEPER_PAYMENT_INCLUDES_TIP", "rkeeper_payment_includes_tip")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("TABLEPAY_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        sources.append(KeyringSource(settings_cls))
        return tuple(sources)

    @field_validator("stripe_secret_key", "stripe_webhook_secret", "mollie_api_key")
    @classmethod
    def _needed_by_the_provider(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """The chosen provider's keys must be set; the other provider's may be left out."""
        provider = info.data.get("provider", "stripe")
        needed = info.field_name.startswith(provider) if info.field_name else False
        if value is None and needed:
            raise PydanticCustomError("missing", "needed with TABLEPAY_PROVIDER={provider}", {"provider": provider})
        return value

    @field_validator("stripe_secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
        ):
            raise ValueError("must start with sk_test_, sk_live_, rk_test_ or rk_live_")
        return value

    @field_validator("mollie_api_key")
    @classmethod
    def _mollie_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not MOLLIE_KEY.fullmatch(value.get_secret_value()):
            raise ValueError("must be a Mollie API key: test_... or live_... (an access_ token is not supported)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL: postgresql://user[:password]@host[:port]/database")
        return value

    @field_validator("donation_organization")
    @classmethod
    def _organization_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"org_\w+", value):
            raise ValueError("must be a Mollie organisation id starting with org_")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secrets = [s.strip() for s in value.get_secret_value().split(",") if s.strip()]
        if not secrets or not all(s.startswith("whsec_") for s in secrets):
            raise ValueError("must be one or more comma-separated secrets starting with whsec_")
        return value

    @field_validator("stripe_api_base", "mollie_api_base", "public_url", "rkeeper_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("donation_account")
    @classmethod
    def _account_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith("acct_"):
            raise ValueError("must be a Stripe account id starting with acct_")
        return value

    @field_validator("rkeeper_tables")
    @classmethod
    def _table_map_shape(cls, value: str) -> str:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            label, sep, code = pair.partition("=")
            if not sep or not label.strip() or not code.strip():
                raise ValueError(f"{pair!r} is not LABEL=CODE (e.g. 'Bar 1=101, Terrace 1=201')")
        return value

    @model_validator(mode="after")
    def _provider_complete(self) -> Settings:
        """The chosen provider's settings are required, the other's are not; keys go only where they belong."""
        if self.provider == "stripe":
            problem = live_key_misdirected(self.stripe_key, self.stripe_api_base)
            if problem:
                raise ValueError(problem)
            if self.deployment == "production" and not self.stripe_key.startswith(LIVE_KEY_PREFIXES):
                raise ValueError(
                    "TABLEPAY_DEPLOYMENT is production but STRIPE_SECRET_KEY is a test key: set a sk_live_ key"
                )
            return self
        problem = mollie_live_key_misdirected(self.mollie_key, self.mollie_api_base)
        if problem:
            raise ValueError(problem)
        if self.deployment == "production" and not self.mollie_key.startswith("live_"):
            raise ValueError("TABLEPAY_DEPLOYMENT is production but MOLLIE_API_KEY is a test key: set a live_ key")
        if self.mollie_split_payments and self.donation_organization is None:
            raise ValueError("MOLLIE_SPLIT_PAYMENTS is on, so TABLEPAY_DONATION_ORGANIZATION (org_...) must be set")
        return self

    @property
    def stripe_key(self) -> str:
        assert self.stripe_secret_key is not None, "only with TABLEPAY_PROVIDER=stripe"
        return self.stripe_secret_key.get_secret_value()

    @property
    def mollie_key(self) -> str:
        assert self.mollie_api_key is not None, "only with TABLEPAY_PROVIDER=mollie"
        return self.mollie_api_key.get_secret_value()

    @property
    def donation_destination(self) -> str | None:
        """Where donations go: a Stripe account, or a Mollie organisation when split payments are on.

        None: this deployment offers no donation (the kiosk hides it, a checkout with one is refused)."""
        if self.provider == "stripe":
            return self.donation_account
        return self.donation_organization if self.mollie_split_payments else None

    @model_validator(mode="after")
    def _pos_complete(self) -> Settings:
        if not self.rkeeper_url:
            return self
        needed = {
            "RKEEPER_USER": self.rkeeper_user,
            "RKEEPER_PASSWORD": self.rkeeper_password,
            "RKEEPER_STATION_CODE": self.rkeeper_station_code,
            "RKEEPER_CASHIER_CODE": self.rkeeper_cashier_code,
            "RKEEPER_CURRENCY_ID": self.rkeeper_currency_id,
        }
        if self.rkeeper_tip_mode == "tip_charge":
            needed["RKEEPER_TIP_CHARGE_CODE"] = self.rkeeper_tip_charge_code
        else:
            needed["RKEEPER_TIP_DISH_CODE"] = self.rkeeper_tip_dish_code
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ValueError(f"RKEEPER_URL is set, so {', '.join(missing)} must be set too")
        return self

    @property
    def payments_target(self) -> str:
        """Where payments go, for the start-up log line: the real provider, or 'not real payments: <base>'."""
        if self.provider == "mollie":
            base = self.mollie_api_base
            return "api.mollie.com" if base in (None, MOLLIE_API) else f"not real payments: {base}"
        return "api.stripe.com" if self.uses_real_stripe else f"not real payments: {self.stripe_api_base}"

    @property
    def uses_real_stripe(self) -> bool:
        return is_stripe_itself(self.stripe_api_base)

    @property
    def pos_enabled(self) -> bool:
        return self.rkeeper_url is not None

    @property
    def pos_tables(self) -> dict[str, str]:
        """Kiosk table label -> POS table code; a label not listed is used as the code."""
        pairs = (p.partition("=") for p in self.rkeeper_tables.split(",") if p.strip())
        return {label.strip(): code.strip() for label, _, code in pairs}

    @property
    def webhook_secrets(self) -> list[str]:
        secret = self.stripe_webhook_secret
        return [s.strip() for s in secret.get_secret_value().split(",") if s.strip()] if secret else []

    @property
    def storage_target(self) -> str:
        """Where the service keeps its state, for logs: the SQLite file, or the PostgreSQL database
        without its password."""
        if self.database_url is None:
            return str(self.database_path)
        where = urlsplit(self.database_url.get_secret_value())
        return f"postgresql://{where.hostname or 'localhost'}:{where.port or 5432}{where.path}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "sync.sqlite"


_ENV_NAMES = {
    name: (field.validation_alias.choices[0] if isinstance(field.validation_alias, AliasChoices) else name)
    for name, field in Settings.model_fields.items()
}
_FIELD_BY_ALIAS = {alias: field for field, alias in _ENV_NAMES.items()}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise ConfigError naming every bad or missing one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = str(error["loc"][0]) if error["loc"] else "?"
            field = _FIELD_BY_ALIAS.get(loc, loc)
            env_name = _ENV_NAMES.get(field, loc)
            if not error["loc"]:
                lines.append(str(error["msg"]).removeprefix("Value error, "))
            elif error["type"] == "missing":
                needed = f", {error['msg']}" if error["msg"] != "Field required" else ""
                lines.append(
                    f"{env_name} is not set (environment variable, '{field}' in the TABLEPAY_CONFIG file, "
                    f"or keyring service '{KEYRING_SERVICE}'{needed})"
                )
            else:
                lines.append(f"{env_name} is wrong: {error['msg']}")
        raise ConfigError("configuration error:\n  " + "\n  ".join(lines)) from None
