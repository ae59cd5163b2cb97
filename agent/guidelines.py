"""Global guidelines and the observation that disambiguates the journeys."""

import parlant.sdk as p

from agent.handoff import initiate_human_handoff
from agent.tools import get_open_claims

UNRELATED_TOPICS_CONDITION = "Customer asks about unrelated topics"
HANDOFF_CONDITION = "Customer requests human assistance or AI is uncertain about the next step"
AMBIGUOUS_ISSUE_OBSERVATION = (
    "Customer mentions an issue but doesn't specify if it's a claim or policy"
)
OPEN_CLAIMS_CONDITION = "Customer asks about the status of their existing claims"


async def add_guidelines(agent: p.Agent, journeys: list[p.Journey]) -> None:
    observation = await agent.create_observation(AMBIGUOUS_ISSUE_OBSERVATION)
    await observation.disambiguate(journeys)

    await agent.create_guideline(
        condition=UNRELATED_TOPICS_CONDITION,
        action="Kindly redirect them to insurance-related support only",
    )
    await agent.create_guideline(
        condition=OPEN_CLAIMS_CONDITION,
        action="Look up their open claims and summarise each one's status",
        tools=[get_open_claims],
    )
    await agent.create_guideline(
        condition=HANDOFF_CONDITION,
        action="Initiate human handoff and notify Tier-2 support.",
        tools=[initiate_human_handoff],
    )
