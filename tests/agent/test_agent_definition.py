"""The ported agent is readable over Parlant's REST API, as the tutorial declares it."""

from parlant.client import AsyncParlantClient

from agent.insurance_agent import AGENT_DESCRIPTION, AGENT_ID, AGENT_NAME


async def test_agent_is_served_with_its_pinned_id(parlant: AsyncParlantClient) -> None:
    agent = await parlant.agents.retrieve(AGENT_ID)
    assert agent.name == AGENT_NAME
    assert agent.description == AGENT_DESCRIPTION


async def test_glossary_terms(parlant: AsyncParlantClient) -> None:
    terms = {t.name: t.description for t in await parlant.glossary.list_terms()}
    assert terms["Customer Service Number"] == "You can reach us at +1-555-INSURE"
    assert terms["Operating Hours"] == "We are available Mon-Fri, 9AM-6PM"


async def test_journeys(parlant: AsyncParlantClient) -> None:
    journeys = {j.title: j for j in await parlant.journeys.list()}
    assert set(journeys) == {"File an Insurance Claim", "Explain Policy Coverage"}
    claim = journeys["File an Insurance Claim"]
    assert claim.description == "Helps customers report and submit a new claim."
    chart = await parlant.journeys.mermaid(claim.id)
    for step in ("Ask for accident details", "file_claim", "Confirm claim was submitted"):
        assert step in chart
    policy_chart = await parlant.journeys.mermaid(journeys["Explain Policy Coverage"].id)
    assert "get_policy_details" in policy_chart
    assert "Explain the policy coverage clearly" in policy_chart


async def test_guidelines_observation_and_tools(parlant: AsyncParlantClient) -> None:
    guidelines = await parlant.guidelines.list()
    by_condition = {g.condition: g for g in guidelines}
    assert (
        by_condition["Customer asks about unrelated topics"].action
        == "Kindly redirect them to insurance-related support only"
    )
    assert (
        by_condition["Customer presses for legal interpretation of coverage"].action
        == "Politely explain that legal advice cannot be provided"
    )
    handoff = by_condition[
        "Customer requests human assistance or AI is uncertain about the next step"
    ]
    assert handoff.action == "Initiate human handoff and notify Tier-2 support."
    observation = by_condition[
        "Customer mentions an issue but doesn't specify if it's a claim or policy"
    ]
    assert observation.action is None

    detail = await parlant.guidelines.retrieve(handoff.id)
    tool_names = {assoc.tool_id.tool_name for assoc in detail.tool_associations}
    assert tool_names == {"initiate_human_handoff"}

    related = await parlant.relationships.list(guideline_id=observation.id, kind="disambiguation")
    assert len(related) == 2
