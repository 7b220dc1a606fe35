// Pages with nothing to load (the "not found" page): theme only.

import { installThemeToggle } from "../ui/theme.js";

installThemeToggle();
