"""Drafts release notes from merged pull requests."""
from agents import Agent, Runner

writer = Agent(name="release-notes", instructions="Summarize the merged pull requests for customers.")
result = Runner.run_sync(writer, "Draft this week's release notes.")
