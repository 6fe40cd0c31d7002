"""Work that runs by itself: recurring rules, plugin schedules, reminders, and ``run-due`` that runs them."""
