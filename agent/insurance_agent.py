"""Declares the insurance support agent on a running Parlant server."""

import parlant.sdk as p

from agent.glossary import add_glossary
from agent.guidelines import add_guidelines
from agent.journeys import create_claim_journey, create_policy_journey

AGENT_ID = "insurance-support-agent"
AGENT_NAME = "Insurance Support Agent"
AGENT_DESCRIPTION = (
    "Friendly Tier-1 AI assistant that helps with claims and policy questions. "
    "Escalates complex or unresolved issues to human agents (Tier-2)."
)


async def create_insurance_agent(
    server: p.Server, perceived_performance: p.PerceivedPerformancePolicy | None = None
) -> p.Agent:
    agent = await server.create_agent(
        id=AGENT_ID,
        name=AGENT_NAME,
        description=AGENT_DESCRIPTION,
        perceived_performance_policy=perceived_performance,
    )
    await add_glossary(agent)
    claim_journey = await create_claim_journey(agent)
    policy_journey = await create_policy_journey(agent)
    await add_guidelines(agent, [claim_journey, policy_journey])
    return agent
