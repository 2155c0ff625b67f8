"""csc-warehouse: a children's social care case-event warehouse for English local authorities."""

from csc_warehouse import settings as _settings

_settings.configure_environment()

__version__ = "0.1.0"
