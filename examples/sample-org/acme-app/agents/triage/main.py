"""Experimental ticket-triage crew. Not launched; runs from a developer's laptop."""
from crewai import Agent, Crew, Task

triager = Agent(role="Triage", goal="Route incoming tickets", backstory="Support lead")
crew = Crew(agents=[triager], tasks=[Task(description="Triage the queue", agent=triager)])
