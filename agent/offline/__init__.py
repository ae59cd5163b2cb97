"""The offline model: a scripted stand-in for an LLM, for tests, demos and development.

Selected only by ``PARLANT_NLP=offline``. It drives Parlant's real engine (guideline
matching, journeys, tool calls, message composition) but decides with keyword rules on
the latest customer message instead of a language model, and answers with fixed
sentences. It is deterministic and needs no key and no network; it is not a chatbot
you would put in front of customers.
"""
