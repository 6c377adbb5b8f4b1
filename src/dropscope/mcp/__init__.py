"""The MCP server: dropscope's research as read-only tools and `project://` resources for AI
agents, over stdio (`dropscope mcp`) or streamable HTTP (`/mcp` in `dropscope serve`).

`server.build_server` assembles it; `research.py` and `assistant.py` hold the tools (thin
wrappers over services), `errors.py` the one translation of the error tree into MCP errors,
`http.py` the streamable HTTP app, `toolbox.py` an MCP client session as the tool runner of
`services.agent`.
"""
