"""Put omgml into AI coding agents: MCP client configs, skills, and a health check (``doctor``)."""
