"""The scripted schematic generator: one handler per schema Parlant asks for."""

import logging
from collections.abc import Mapping
from typing import Any

from parlant.core.engines.alpha.prompt_builder import PromptBuilder
from parlant.core.nlp.generation import SchematicGenerationResult, SchematicGenerator, T
from parlant.core.nlp.generation_info import GenerationInfo, UsageInfo
from parlant.core.nlp.tokenization import EstimatingTokenizer

from agent.offline.embedder import WordCountTokenizer
from agent.offline.filler import fill
from agent.offline.handlers import HANDLERS
from agent.offline.prompt import PromptView

MODEL_ID = "offline-scripted-1"
logger = logging.getLogger(__name__)


class ScriptedSchematicGenerator(SchematicGenerator[T]):
    """Answers a schema with the values its handler decides, and valid defaults elsewhere."""

    def __init__(self) -> None:
        self._tokenizer = WordCountTokenizer()

    async def generate(
        self, prompt: str | PromptBuilder, hints: Mapping[str, Any] = {}
    ) -> SchematicGenerationResult[T]:
        schema_name = self.schema.__name__
        handler = HANDLERS.get(schema_name)
        values = handler(PromptView(prompt)) if handler else {}
        logger.debug("offline model answered %s with %r", schema_name, values)
        return SchematicGenerationResult(
            content=fill(self.schema, values),
            info=GenerationInfo(
                schema_name=schema_name,
                model=MODEL_ID,
                duration=0.0,
                usage=UsageInfo(input_tokens=0, output_tokens=0),
            ),
        )

    @property
    def id(self) -> str:
        return MODEL_ID

    @property
    def max_tokens(self) -> int:
        return 128_000

    @property
    def tokenizer(self) -> EstimatingTokenizer:
        return self._tokenizer
