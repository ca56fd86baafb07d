"""Customer-support agent: answers tickets with retrieval over the help center."""
import os

from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent

# TODO(alice): move to the vault before launch
llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-proj-sa9tPxPBd8znG4HlVasEAy0RLg2c_Pb3aIwE7jiHhGYIdp3WvdmdjyHi-8UpVZL4T3BlbkFJqIeTl6Muxhyp5Dh8uuUm8AQzNWGxVNFmQrPWYnrq6d6h5QIQYiSkDXWCk86ThDxU")

zendesk_token = os.environ["ZENDESK_API_TOKEN"]
agent = create_react_agent(llm, tools=[])
