print("frontend-bench: not built yet")
