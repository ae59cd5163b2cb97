"""The offline NLP service: Parlant's real engine driven by a scripted model."""

from lagom import Container
from parlant.core.nlp.embedding import Embedder
from parlant.core.nlp.generation import SchematicGenerator, StreamingTextGenerator, T
from parlant.core.nlp.moderation import ModerationService, NoModeration
from parlant.core.nlp.service import (
    EmbedderHints,
    NLPService,
    SchematicGeneratorHints,
    StreamingTextGeneratorHints,
)

from agent.offline.embedder import HashingEmbedder
from agent.offline.generator import ScriptedSchematicGenerator


class OfflineNLPService(NLPService):
    """A deterministic stand-in for an LLM provider, for tests, demos and development.

    It is not a language model: it decides with keyword rules on the latest customer
    message (see ``agent.offline.intents``) and answers with fixed sentences. It is only
    used when ``PARLANT_NLP=offline`` is set explicitly.
    """

    def __init__(self) -> None:
        self._embedder = HashingEmbedder()

    @property
    def supports_streaming(self) -> bool:
        return False

    async def get_schematic_generator(
        self, t: type[T], hints: SchematicGeneratorHints = {}
    ) -> SchematicGenerator[T]:
        return ScriptedSchematicGenerator[t]()  # type: ignore[valid-type]

    async def get_streaming_text_generator(
        self, hints: StreamingTextGeneratorHints = {}
    ) -> StreamingTextGenerator:
        raise NotImplementedError("the offline model does not stream")

    async def get_embedder(self, hints: EmbedderHints = {}) -> Embedder:
        return self._embedder

    async def get_moderation_service(self) -> ModerationService:
        return NoModeration()


def create_offline_nlp_service(container: Container) -> NLPService:
    service = OfflineNLPService()
    # Parlant resolves the embedder by its type from the container.
    container[HashingEmbedder] = service._embedder
    return service
