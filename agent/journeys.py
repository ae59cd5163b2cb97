"""The two conversational journeys: filing a claim and explaining policy coverage."""

import parlant.sdk as p

from agent.tools import file_claim, get_policy_details

CLAIM_JOURNEY_TITLE = "File an Insurance Claim"
POLICY_JOURNEY_TITLE = "Explain Policy Coverage"


async def create_claim_journey(agent: p.Agent) -> p.Journey:
    journey = await agent.create_journey(
        title=CLAIM_JOURNEY_TITLE,
        description="Helps customers report and submit a new claim.",
        conditions=["The customer wants to file a claim"],
    )
    ask = await journey.initial_state.transition_to(chat_state="Ask for accident details")
    filing = await ask.target.transition_to(
        tool_state=file_claim, condition="Customer provides details"
    )
    confirm = await filing.target.transition_to(
        chat_state="Confirm claim was submitted", condition="Claim successfully created"
    )
    await confirm.target.transition_to(
        state=p.END_JOURNEY, condition="Customer confirms submission"
    )
    return journey


async def create_policy_journey(agent: p.Agent) -> p.Journey:
    journey = await agent.create_journey(
        title=POLICY_JOURNEY_TITLE,
        description="Retrieves and explains customer's insurance coverage.",
        conditions=["The customer asks about their policy"],
    )
    lookup = await journey.initial_state.transition_to(tool_state=get_policy_details)
    await lookup.target.transition_to(
        chat_state="Explain the policy coverage clearly",
        condition="Policy info is available",
    )
    await agent.create_guideline(
        condition="Customer presses for legal interpretation of coverage",
        action="Politely explain that legal advice cannot be provided",
    )
    return journey
