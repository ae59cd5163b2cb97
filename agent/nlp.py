"""Chooses the model provider named by ``PARLANT_NLP``.

``offline`` plugs the scripted model into the slot a real provider would fill; any
other name must be a provider Parlant ships, with its environment complete. A real
provider that is misconfigured is an error: the scripted model is never a fallback.
"""

import re
from collections.abc import Callable
from typing import Any

import parlant.sdk as p
from lagom import Container
from parlant.core.nlp.service import NLPService

from agent.settings import OFFLINE_NLP, ConfigError

NLPFactory = Callable[[Container], NLPService]
_ENV_VAR = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b")


class _ProbeFinished(Exception):
    pass


class _ProbeContainer:
    """Stands in for Parlant's container: a factory that reaches for it has passed its checks."""

    def __getitem__(self, key: Any) -> Any:
        raise _ProbeFinished


def available_providers() -> list[str]:
    names = [name for name, value in vars(p.NLPServices).items() if isinstance(value, staticmethod)]
    return [*sorted(names), OFFLINE_NLP]


def choose_nlp_factory(name: str) -> NLPFactory:
    """Return the factory for ``name`` after checking its environment.

    Raises:
        ConfigError: unknown provider, missing extra package, or missing credentials.
    """
    if name == OFFLINE_NLP:
        from agent.offline.service import create_offline_nlp_service

        return create_offline_nlp_service

    factory = getattr(p.NLPServices, name, None) if not name.startswith("_") else None
    if factory is None:
        raise ConfigError(
            f"PARLANT_NLP={name!r} is not a known provider "
            f"({', '.join(available_providers())}); use PARLANT_NLP=offline to run without a model"
        )
    try:
        factory(_ProbeContainer())
    except _ProbeFinished:
        return factory  # type: ignore[no-any-return]
    except ImportError as exc:
        raise ConfigError(
            f"PARLANT_NLP={name} needs an extra package ({exc.name}): "
            f"pip install 'parlant[{name}]', or use PARLANT_NLP=offline"
        ) from None
    except Exception as exc:  # NLPServiceConfigurationError and friends carry a long panel text
        variable = _ENV_VAR.search(str(exc))
        missing = variable.group(0) if variable else "its credentials"
        raise ConfigError(
            f"{missing} is not set (required by PARLANT_NLP={name}); "
            "set it in the environment or .env, or use PARLANT_NLP=offline to run without a model"
        ) from None
    return factory  # type: ignore[no-any-return]
