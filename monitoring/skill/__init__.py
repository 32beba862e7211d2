"""Realized skill: forecasts (posterior draws) scored against outcomes. No Django import."""
