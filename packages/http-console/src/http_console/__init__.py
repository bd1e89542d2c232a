"""http-console: a browser HTTP client with traces (the successor of the R "shiny-curl-gui")."""
