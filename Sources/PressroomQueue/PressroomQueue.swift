// PressroomQueue
