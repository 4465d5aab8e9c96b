"""Project capabilities: scaffold a project (``init_project``), report where it stands (``project_status``), show a
saved report again (``show_report``)."""
