"""Making assignment folders: from a master notebook (`master`), and from nbgrader and otter
assignments (`nbgrader`, `otter`). `markers` reads solution and hidden-test regions; `draft`
writes the folder."""
