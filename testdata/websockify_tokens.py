"""Parses a token file (or directory) with websockify's own TokenFile
plugin and prints {name: [host, port]} as JSON, for websockify_test.go."""
import json
import sys
import warnings

warnings.simplefilter("ignore")
from websockify.token_plugins import TokenFile  # noqa: E402

plugin = TokenFile(sys.argv[1])
plugin._load_targets()
print(json.dumps(plugin._targets))
