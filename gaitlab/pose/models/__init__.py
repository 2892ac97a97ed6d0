"""pose.models"""
