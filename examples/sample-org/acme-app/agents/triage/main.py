"""Experimental ticket-triage crew. Not launched; runs from a developer's laptop."""
import os

from azure.identity import ClientSecretCredential
from crewai import Agent, Crew, Task

# Reads scanned invoices attached to tickets through the invoice-ocr app registration.
graph_credential = ClientSecretCredential(
    tenant_id="acme.example",
    client_id="9c1e7b42-0d3a-4f5e-b6a8-2c9d0e1f3a54",
    client_secret=os.environ["INVOICE_OCR_CLIENT_SECRET"],
)

triager = Agent(role="Triage", goal="Route incoming tickets", backstory="Support lead")
crew = Crew(agents=[triager], tasks=[Task(description="Triage the queue", agent=triager)])
