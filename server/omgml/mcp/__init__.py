"""The MCP face: tools, prompts and the server. Thin: parse, call the service, render."""
