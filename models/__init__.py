# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Network definitions."""
