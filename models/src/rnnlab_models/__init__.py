"""rnnlab's shipped models, one folder each (config, vocabulary, weights.safetensors, card.json).

rnnlab finds this package by name; use the models as `@name` wherever rnnlab takes a run:
`rnnlab generate @shakespeare`, `rnnlab.load("@bach")`, `rnnlab models` to list them.
"""
