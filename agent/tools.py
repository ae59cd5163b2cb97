"""The insurance agent's business tools (simulated back end, as in the tutorial).

No ``from __future__ import annotations`` here: Parlant's ``@p.tool`` compares
parameter annotations by identity and rejects string annotations.
"""

import parlant.sdk as p

OPEN_CLAIMS = ["Claim #123 - Pending", "Claim #456 - Approved"]
POLICY = {
    "policy_number": "POL-7788",
    "coverage": "Covers accidental damage and theft up to $50,000",
}


@p.tool
async def get_open_claims(context: p.ToolContext) -> p.ToolResult:
    """List the customer's open insurance claims."""
    return p.ToolResult(data=OPEN_CLAIMS)


@p.tool
async def file_claim(context: p.ToolContext, claim_details: str) -> p.ToolResult:
    """File a new insurance claim with the details the customer gave."""
    details = claim_details.strip()
    if not details:
        return p.ToolResult(data="No claim was filed: the claim details were empty.")
    return p.ToolResult(data=f"New claim filed: {details}")


@p.tool
async def get_policy_details(context: p.ToolContext) -> p.ToolResult:
    """Return the customer's policy number and coverage."""
    return p.ToolResult(data=POLICY)
