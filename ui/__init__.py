"""The Gradio demo of platform-sim (``platform-sim ui``); see ``ui.app``."""
