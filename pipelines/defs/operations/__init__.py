"""Jobs, sensors, schedules, the run wrapper and run retention."""
