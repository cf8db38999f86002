"""Models by name: ``"module:callable"`` plus keyword arguments (a torchvision model, a class or
function in a user's own file, or a built-in network) resolved to a factory
(:mod:`.names`), checked against the data before any job (:mod:`.checks`), and measured in FLOPs
per training step (:mod:`.flops`). Importing the package does no work."""
