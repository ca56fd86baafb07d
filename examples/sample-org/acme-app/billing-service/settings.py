"""Clean file: every credential comes from the environment or a placeholder."""
import os

OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY")
STRIPE_SECRET_KEY = os.getenv("STRIPE_SECRET_KEY", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx")
ANTHROPIC_API_KEY = "your-api-key-here"
CACHE_KEY = "5f4dcc3b5aa765d61d8327deb882cf99"
REQUEST_ID = "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c"
