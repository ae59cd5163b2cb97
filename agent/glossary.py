"""Domain terms the agent uses consistently."""

import parlant.sdk as p

TERMS = {
    "Customer Service Number": "You can reach us at +1-555-INSURE",
    "Operating Hours": "We are available Mon-Fri, 9AM-6PM",
}


async def add_glossary(agent: p.Agent) -> None:
    for name, description in TERMS.items():
        await agent.create_term(name=name, description=description)
